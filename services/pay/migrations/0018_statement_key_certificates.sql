CREATE TABLE "statement_key_certificates" (
	"id" text PRIMARY KEY NOT NULL,
	"kid" text NOT NULL,
	"acquirer_id" text NOT NULL,
	"certificate" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "statement_key_certificates_kid" ON "statement_key_certificates" USING btree ("kid");