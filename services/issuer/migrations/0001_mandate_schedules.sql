CREATE TABLE "recurring_token_periods" (
	"token_id" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"charges" integer NOT NULL,
	"total" bigint NOT NULL,
	CONSTRAINT "recurring_token_periods_pkey" PRIMARY KEY("token_id","period_start")
);
--> statement-breakpoint
ALTER TABLE "recurring_tokens" ADD COLUMN "consent" jsonb;