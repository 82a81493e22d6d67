CREATE TABLE "statement_nonces" (
	"nonce" text PRIMARY KEY NOT NULL,
	"payer_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "enrollment_limit_slots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "announcements" (
	"id" text PRIMARY KEY NOT NULL,
	"payer_id" text NOT NULL,
	"messenger_subject" text NOT NULL,
	"kind" text NOT NULL,
	"text" text NOT NULL,
	"actions" jsonb NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "revoke_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "revoke_scheduled_by" text;--> statement-breakpoint
ALTER TABLE "payer_pins" ADD COLUMN "previous_record" text;--> statement-breakpoint
ALTER TABLE "payer_pins" ADD COLUMN "previous_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "pin_logins" ADD COLUMN "against_previous" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "pin_resets" ADD COLUMN "cardholder_check_id" text;--> statement-breakpoint
ALTER TABLE "recurring_mandates" ADD COLUMN "period" jsonb;--> statement-breakpoint
CREATE INDEX "statement_nonces_payer" ON "statement_nonces" USING btree ("payer_id","created_at");--> statement-breakpoint
CREATE INDEX "statement_nonces_expiry" ON "statement_nonces" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "enrollment_limit_slots_subject" ON "enrollment_limit_slots" USING btree ("subject","kind","at");--> statement-breakpoint
CREATE INDEX "announcements_due" ON "announcements" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "announcements_payer" ON "announcements" USING btree ("payer_id","created_at");--> statement-breakpoint
CREATE INDEX "devices_revoke_due" ON "devices" USING btree ("revoke_at") WHERE revoke_at is not null and status in ('active', 'pending');