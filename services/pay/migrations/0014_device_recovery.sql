ALTER TABLE "card_enrollments" ALTER COLUMN "device_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "card_enrollments" ADD COLUMN "purpose" text DEFAULT 'enroll' NOT NULL;--> statement-breakpoint
ALTER TABLE "card_enrollments" ADD COLUMN "recovery_device" jsonb;