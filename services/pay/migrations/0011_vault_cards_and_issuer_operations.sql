CREATE TABLE "card_enrollments" (
	"id" text PRIMARY KEY NOT NULL,
	"payer_id" text NOT NULL,
	"device_id" text NOT NULL,
	"issuer_id" text NOT NULL,
	"issuer_enrollment_id" text NOT NULL,
	"status" text NOT NULL,
	"card_id" text,
	"client_ip" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cards" (
	"id" text PRIMARY KEY NOT NULL,
	"payer_id" text NOT NULL,
	"device_id" text NOT NULL,
	"issuer_id" text NOT NULL,
	"card_ref" text NOT NULL,
	"brand" text NOT NULL,
	"last4" text NOT NULL,
	"expiry_month" text NOT NULL,
	"status" text NOT NULL,
	"sealed_card" text,
	"sealed_profile" text,
	"record_version" integer,
	"wrapped_k_srv" text,
	"kek_version" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "device_unbinds" (
	"device_id" text NOT NULL,
	"issuer_id" text NOT NULL,
	"device_kid" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "issuer_operations" (
	"id" text PRIMARY KEY NOT NULL,
	"payment_id" text NOT NULL,
	"merchant_id" text NOT NULL,
	"issuer_id" text NOT NULL,
	"kind" text NOT NULL,
	"amount" bigint,
	"refund_id" text,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deadline_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "approval_challenges" ADD COLUMN "card_id" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "reaches_issuer" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "card_id" text;--> statement-breakpoint
CREATE INDEX "card_enrollments_payer" ON "card_enrollments" USING btree ("payer_id","created_at");--> statement-breakpoint
CREATE INDEX "card_enrollments_ip" ON "card_enrollments" USING btree ("client_ip","created_at");--> statement-breakpoint
CREATE INDEX "cards_payer" ON "cards" USING btree ("payer_id");--> statement-breakpoint
CREATE INDEX "cards_device" ON "cards" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "cards_kek_version" ON "cards" USING btree ("kek_version");--> statement-breakpoint
CREATE UNIQUE INDEX "cards_one_per_device" ON "cards" USING btree ("device_id","issuer_id","card_ref") WHERE status <> 'removed';--> statement-breakpoint
CREATE UNIQUE INDEX "device_unbinds_key" ON "device_unbinds" USING btree ("device_id","issuer_id");--> statement-breakpoint
CREATE INDEX "device_unbinds_due" ON "device_unbinds" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "issuer_operations_due" ON "issuer_operations" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "issuer_operations_one_authorize" ON "issuer_operations" USING btree ("payment_id") WHERE kind = 'authorize';--> statement-breakpoint
CREATE UNIQUE INDEX "issuer_operations_one_pending" ON "issuer_operations" USING btree ("payment_id") WHERE status = 'pending';