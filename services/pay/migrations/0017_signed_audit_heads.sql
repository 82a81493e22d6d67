CREATE TABLE "audit_signed_heads" (
	"chain" text NOT NULL,
	"size" bigint NOT NULL,
	"hash" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"kid" text NOT NULL,
	"jws" text NOT NULL,
	CONSTRAINT "audit_signed_heads_chain_size_pk" PRIMARY KEY("chain","size")
);
--> statement-breakpoint
-- Hand-written: signed heads are append-only like the log they sign (0001_append_only.sql).
CREATE TRIGGER audit_signed_heads_append_only BEFORE UPDATE OR DELETE ON audit_signed_heads
  FOR EACH ROW EXECUTE FUNCTION mpay_refuse_change();
