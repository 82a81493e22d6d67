CREATE TABLE "audit_pending" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" text NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"data" jsonb NOT NULL
);
--> statement-breakpoint
-- Hand-written: a pending entry is never changed; the sealer deletes the rows it links into audit_log
-- (0001_append_only.sql).
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
  FOR EACH ROW EXECUTE FUNCTION mpay_refuse_change();
