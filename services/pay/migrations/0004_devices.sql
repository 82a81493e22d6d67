CREATE TABLE "devices" (
	"id" text PRIMARY KEY NOT NULL,
	"payer_id" text NOT NULL,
	"key_thumbprint" text NOT NULL,
	"public_key_jwk" jsonb NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"activates_at" timestamp with time zone NOT NULL,
	"approved_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	CONSTRAINT "devices_key_thumbprint_unique" UNIQUE("key_thumbprint")
);
--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_payer_id_payers_id_fk" FOREIGN KEY ("payer_id") REFERENCES "public"."payers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "devices_payer" ON "devices" USING btree ("payer_id");