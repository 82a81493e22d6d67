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
CREATE INDEX "announcements_due" ON "announcements" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "announcements_payer" ON "announcements" USING btree ("payer_id","created_at");