CREATE TABLE "statement_nonces" (
	"nonce" text PRIMARY KEY NOT NULL,
	"payer_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "revoke_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "revoke_scheduled_by" text;--> statement-breakpoint
ALTER TABLE "payer_pins" ADD COLUMN "previous_record" text;--> statement-breakpoint
ALTER TABLE "payer_pins" ADD COLUMN "previous_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pin_logins" ADD COLUMN "against_previous" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "pin_resets" ADD COLUMN "cardholder_check_id" text;--> statement-breakpoint
CREATE INDEX "statement_nonces_payer" ON "statement_nonces" USING btree ("payer_id","created_at");--> statement-breakpoint
CREATE INDEX "statement_nonces_expiry" ON "statement_nonces" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "devices_revoke_due" ON "devices" USING btree ("revoke_at") WHERE revoke_at is not null and status in ('active', 'pending');