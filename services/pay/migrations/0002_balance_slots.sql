ALTER TABLE "ledger_balances" ADD COLUMN "slot" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_balances" DROP CONSTRAINT "ledger_balances_account_currency_pk";--> statement-breakpoint
ALTER TABLE "ledger_balances" ADD CONSTRAINT "ledger_balances_account_currency_slot_pk" PRIMARY KEY("account","currency","slot");--> statement-breakpoint
CREATE INDEX "ledger_balances_merchant" ON "ledger_balances" USING btree ("merchant_id");
