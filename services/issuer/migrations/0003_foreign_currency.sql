ALTER TABLE "authorizations" ADD COLUMN "billing_currency" text;--> statement-breakpoint
ALTER TABLE "authorizations" ADD COLUMN "billing_amount" bigint;--> statement-breakpoint
ALTER TABLE "authorizations" ADD COLUMN "fx_rate" text;--> statement-breakpoint
ALTER TABLE "authorizations" ADD COLUMN "fx_fee_bps" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "authorizations" ADD COLUMN "billing_captured" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "authorizations" ADD COLUMN "billing_refunded" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Hand-written: before foreign-currency purchases every approval was in its card's currency, billed 1:1 with no fee.
UPDATE "authorizations" a SET "billing_currency" = c."currency",
  "billing_amount" = CASE WHEN a."currency" = c."currency" THEN a."amount" END,
  "fx_rate" = CASE WHEN a."currency" = c."currency" THEN '1' END,
  "billing_captured" = a."amount_captured", "billing_refunded" = a."amount_refunded"
  FROM "card_accounts" c WHERE c."card_ref" = a."card_ref";
