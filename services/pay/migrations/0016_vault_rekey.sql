CREATE TABLE "vault_processes" (
	"id" text PRIMARY KEY NOT NULL,
	"public_key" text NOT NULL,
	"generation" integer NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_master" text,
	"delivered_generation" integer
);
--> statement-breakpoint
CREATE TABLE "vault_retired_share_sets" (
	"generation" integer PRIMARY KEY NOT NULL,
	"share_set" text,
	"retired_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "vault_custody" ADD COLUMN "generation" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "vault_custody" ADD COLUMN "share_set" text;--> statement-breakpoint
ALTER TABLE "vault_custody" ADD COLUMN "rekey_version" integer;--> statement-breakpoint
ALTER TABLE "vault_keyring" ADD COLUMN "generation" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
-- drizzle-kit cannot name the old primary key: PostgreSQL's default name for it is <table>_pkey.
ALTER TABLE "vault_keyring" DROP CONSTRAINT "vault_keyring_pkey";--> statement-breakpoint
ALTER TABLE "vault_keyring" ADD CONSTRAINT "vault_keyring_generation_version_pk" PRIMARY KEY("generation","version");--> statement-breakpoint
CREATE INDEX "vault_processes_generation" ON "vault_processes" USING btree ("generation");
