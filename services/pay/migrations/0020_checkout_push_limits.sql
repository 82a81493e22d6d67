CREATE TABLE "checkout_push_limit_slots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "checkout_push_limit_slots_subject" ON "checkout_push_limit_slots" USING btree ("subject","kind","at");