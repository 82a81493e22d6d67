CREATE TABLE "recurring_mandates" (
	"id" text PRIMARY KEY NOT NULL,
	"merchant_id" text NOT NULL,
	"mode" text NOT NULL,
	"payer_id" text NOT NULL,
	"card_id" text NOT NULL,
	"issuer_id" text NOT NULL,
	"sealed_token" text NOT NULL,
	"max_amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"payment_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "approval_challenges" ADD COLUMN "mandate_terms" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "setup_future_usage" jsonb;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "mandate_id" text;--> statement-breakpoint
CREATE INDEX "recurring_mandates_payer" ON "recurring_mandates" USING btree ("payer_id");--> statement-breakpoint
CREATE INDEX "recurring_mandates_merchant" ON "recurring_mandates" USING btree ("merchant_id","mode");