CREATE TABLE "app_sessions" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "login_attempt_slots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "official_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"sender" text NOT NULL,
	"account_id" text NOT NULL,
	"kind" text NOT NULL,
	"text" text NOT NULL,
	"actions" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"read_at" timestamp with time zone,
	CONSTRAINT "official_messages_seq" UNIQUE("seq")
);
--> statement-breakpoint
DROP TABLE "login_throttle" CASCADE;--> statement-breakpoint
ALTER TABLE "app_sessions" ADD CONSTRAINT "app_sessions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "official_messages" ADD CONSTRAINT "official_messages_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "app_sessions_account" ON "app_sessions" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "app_sessions_expires" ON "app_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "login_attempt_slots_subject" ON "login_attempt_slots" USING btree ("subject","kind","at");--> statement-breakpoint
CREATE INDEX "official_messages_account" ON "official_messages" USING btree ("account_id","seq");--> statement-breakpoint
CREATE INDEX "official_messages_unread" ON "official_messages" USING btree ("account_id") WHERE read_at is null;