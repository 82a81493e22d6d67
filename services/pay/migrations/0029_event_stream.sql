ALTER TABLE "events" ADD COLUMN "published_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "events_unpublished" ON "events" USING btree ("id") WHERE published_at is null;