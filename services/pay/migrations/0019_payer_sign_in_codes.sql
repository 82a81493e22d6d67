CREATE TABLE "payer_sign_in_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"payer_id" text NOT NULL,
	"code_challenge" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Sign-ins started before the wallet sent a challenge cannot end in a code: they are dropped (the payer starts again).
DELETE FROM "payer_sign_ins";--> statement-breakpoint
ALTER TABLE "payer_sign_ins" ADD COLUMN "code_challenge" text NOT NULL;--> statement-breakpoint
ALTER TABLE "payer_sign_in_codes" ADD CONSTRAINT "payer_sign_in_codes_payer_id_payers_id_fk" FOREIGN KEY ("payer_id") REFERENCES "public"."payers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "payers_phone_number" ON "payers" USING btree ("phone_number");