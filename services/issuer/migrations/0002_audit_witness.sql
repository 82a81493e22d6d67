CREATE TABLE "witness_audit_keys" (
	"chain" text PRIMARY KEY NOT NULL,
	"kid" text NOT NULL,
	"jwk" jsonb NOT NULL,
	"pinned_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "witnessed_audit_heads" (
	"chain" text NOT NULL,
	"size" bigint NOT NULL,
	"hash" text NOT NULL,
	"kid" text NOT NULL,
	"jws" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "witnessed_audit_heads_chain_size_pk" PRIMARY KEY("chain","size")
);
--> statement-breakpoint
-- Hand-written: a witness never forgets nor changes a head it accepted, nor the key it pinned.
CREATE OR REPLACE FUNCTION witness_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER witnessed_audit_heads_append_only BEFORE UPDATE OR DELETE ON witnessed_audit_heads
  FOR EACH ROW EXECUTE FUNCTION witness_refuse_change();
--> statement-breakpoint
CREATE TRIGGER witness_audit_keys_append_only BEFORE UPDATE OR DELETE ON witness_audit_keys
  FOR EACH ROW EXECUTE FUNCTION witness_refuse_change();
