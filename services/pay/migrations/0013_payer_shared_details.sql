ALTER TABLE "payments" ADD COLUMN "collect" jsonb;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "sealed_shared_details" text;