CREATE TABLE "pin_resets" (
	"id" text PRIMARY KEY NOT NULL,
	"payer_id" text NOT NULL,
	"registration_record" text NOT NULL,
	"requested_by" text NOT NULL,
	"status" text NOT NULL,
	"activates_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "pin_resets" ADD CONSTRAINT "pin_resets_payer_id_payers_id_fk" FOREIGN KEY ("payer_id") REFERENCES "public"."payers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pin_resets_payer" ON "pin_resets" USING btree ("payer_id","status");