CREATE TABLE "login_attempt_slots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
DROP TABLE "login_throttle" CASCADE;--> statement-breakpoint
CREATE INDEX "login_attempt_slots_subject" ON "login_attempt_slots" USING btree ("subject","kind","at");