CREATE TABLE "key_versions" (
	"provider" text PRIMARY KEY NOT NULL,
	"current_version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vault_custody" (
	"id" text PRIMARY KEY NOT NULL,
	"threshold" smallint NOT NULL,
	"shares" smallint NOT NULL,
	"check_value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vault_custody_one_row" CHECK ("vault_custody"."id" = 'main'),
	CONSTRAINT "vault_custody_threshold" CHECK ("vault_custody"."threshold" >= 2 and "vault_custody"."threshold" <= "vault_custody"."shares")
);
--> statement-breakpoint
CREATE TABLE "vault_keyring" (
	"version" integer PRIMARY KEY NOT NULL,
	"sealed_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
