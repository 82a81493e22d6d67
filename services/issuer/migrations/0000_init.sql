CREATE TABLE "authorizations" (
	"payment_id" text PRIMARY KEY NOT NULL,
	"card_ref" text,
	"kind" text NOT NULL,
	"device_kid" text,
	"auth_method" text,
	"recurring_token_id" text,
	"merchant_id" text NOT NULL,
	"merchant_name" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"capture_method" text NOT NULL,
	"decision" text NOT NULL,
	"decline_code" text,
	"authorization_code" text,
	"status" text NOT NULL,
	"hold_amount" bigint NOT NULL,
	"amount_captured" bigint DEFAULT 0 NOT NULL,
	"amount_refunded" bigint DEFAULT 0 NOT NULL,
	"decided_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "card_accounts" (
	"card_ref" text PRIMARY KEY NOT NULL,
	"pan" text NOT NULL,
	"brand" text NOT NULL,
	"expiry_month" text NOT NULL,
	"holder_name" text NOT NULL,
	"phone" text NOT NULL,
	"currency" text NOT NULL,
	"credit_limit" bigint NOT NULL,
	"open_to_buy" bigint NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "card_accounts_pan" UNIQUE("pan")
);
--> statement-breakpoint
CREATE TABLE "device_bindings" (
	"id" text PRIMARY KEY NOT NULL,
	"card_ref" text NOT NULL,
	"device_kid" text NOT NULL,
	"device_jwk" jsonb NOT NULL,
	"payer_ref" text NOT NULL,
	"bound_at" timestamp with time zone NOT NULL,
	"unbound_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "enrollment_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "enrollments" (
	"id" text PRIMARY KEY NOT NULL,
	"card_ref" text NOT NULL,
	"payer_ref" text NOT NULL,
	"device_kid" text NOT NULL,
	"device_jwk" jsonb NOT NULL,
	"passkeys" jsonb NOT NULL,
	"code_hash" text NOT NULL,
	"status" text NOT NULL,
	"wrong_codes" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "operations" (
	"operation_id" text PRIMARY KEY NOT NULL,
	"payment_id" text NOT NULL,
	"type" text NOT NULL,
	"amount" bigint NOT NULL,
	"answer" jsonb NOT NULL,
	"processed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "passkey_bindings" (
	"card_ref" text NOT NULL,
	"credential_id" text NOT NULL,
	"binding_id" text NOT NULL,
	"public_key" text NOT NULL,
	"sign_count" bigint DEFAULT 0 NOT NULL,
	"bound_at" timestamp with time zone NOT NULL,
	"unbound_at" timestamp with time zone,
	CONSTRAINT "passkey_bindings_pkey" PRIMARY KEY("card_ref","credential_id")
);
--> statement-breakpoint
CREATE TABLE "payment_nonces" (
	"device_kid" text NOT NULL,
	"nonce" text NOT NULL,
	"payment_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "payment_nonces_pkey" PRIMARY KEY("device_kid","nonce")
);
--> statement-breakpoint
CREATE TABLE "recurring_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"card_ref" text NOT NULL,
	"merchant_id" text NOT NULL,
	"merchant_name" text NOT NULL,
	"max_amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"payer_ref" text NOT NULL,
	"device_kid" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "recurring_tokens_hash" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "revoked_devices" (
	"device_kid" text PRIMARY KEY NOT NULL,
	"revoked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "test_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"phone" text NOT NULL,
	"text" text NOT NULL,
	"code" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "authorizations_card" ON "authorizations" USING btree ("card_ref");--> statement-breakpoint
CREATE UNIQUE INDEX "device_bindings_card_kid" ON "device_bindings" USING btree ("card_ref","device_kid");--> statement-breakpoint
CREATE INDEX "device_bindings_kid" ON "device_bindings" USING btree ("device_kid");--> statement-breakpoint
CREATE INDEX "enrollment_events_subject" ON "enrollment_events" USING btree ("subject","kind","at");--> statement-breakpoint
CREATE INDEX "enrollments_card" ON "enrollments" USING btree ("card_ref");--> statement-breakpoint
CREATE INDEX "operations_payment" ON "operations" USING btree ("payment_id");--> statement-breakpoint
CREATE INDEX "operations_processed" ON "operations" USING btree ("processed_at");--> statement-breakpoint
CREATE INDEX "passkey_bindings_binding" ON "passkey_bindings" USING btree ("binding_id");--> statement-breakpoint
CREATE INDEX "payment_nonces_expires" ON "payment_nonces" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "recurring_tokens_card" ON "recurring_tokens" USING btree ("card_ref");--> statement-breakpoint
CREATE INDEX "test_inbox_phone" ON "test_inbox" USING btree ("phone","sent_at");