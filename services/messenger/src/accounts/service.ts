/**
 * Messenger accounts: creation and password sign-in. The rules live here; routes, the CLI and the OpenID
 * Connect provider all come through this service.
 */
import { normalizePhoneNumber, type Secret } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import { newAccountId } from "./ids.ts";
import { decoyHash, hashPassword, verifyPassword } from "./passwords.ts";
import { accountById, accountByPhone, accountsByIds, insertAccount, type AccountRow } from "./store.ts";

export interface Account {
  /** The OpenID Connect subject. */
  id: string;
  phoneNumber: string;
  displayName: string;
  phoneVerified: boolean;
  createdAt: Date;
}

export interface NewAccount {
  /** Already normalized to E.164 (accounts/input.ts). */
  phoneNumber: string;
  displayName: string;
  password: Secret<string>;
}

function view(row: AccountRow): Account {
  return {
    id: row.id,
    phoneNumber: row.phoneNumber,
    displayName: row.displayName,
    phoneVerified: row.phoneVerifiedAt !== null,
    createdAt: row.createdAt,
  };
}

export class AccountService {
  constructor(private readonly db: Db) {}

  /** Creates an account; `phone_number_taken` when the number already has one. */
  async create(input: NewAccount): Promise<Account> {
    const passwordHash = await hashPassword(input.password);
    const now = new Date();
    const row = await insertAccount(this.db, {
      id: newAccountId(),
      phoneNumber: input.phoneNumber,
      displayName: input.displayName,
      passwordHash,
      // The simulator has no SMS step; see the README ("phone_number_verified").
      phoneVerifiedAt: now,
      createdAt: now,
    });
    if (!row)
      throw new ApiError("phone_number_taken", "An account with this phone number already exists.", "phoneNumber");
    return view(row);
  }

  /**
   * The account whose phone number and password these are, or null. Whether the number has an account or the
   * password is wrong cannot be told apart, not even by timing: an unknown number is checked against a decoy hash.
   */
  async authenticate(phoneInput: string, password: Secret<string>): Promise<Account | null> {
    const phoneNumber = normalizePhoneNumber(phoneInput);
    const row = phoneNumber ? await accountByPhone(this.db, phoneNumber) : null;
    const matches = await verifyPassword(password, row?.passwordHash ?? (await decoyHash()));
    return row && matches ? view(row) : null;
  }

  async find(id: string): Promise<Account | null> {
    const row = await accountById(this.db, id);
    return row ? view(row) : null;
  }

  /** The account of a phone number (any format `normalizePhoneNumber` reads), or null. */
  async findByPhoneNumber(phoneInput: string): Promise<Account | null> {
    const phoneNumber = normalizePhoneNumber(phoneInput);
    const row = phoneNumber ? await accountByPhone(this.db, phoneNumber) : null;
    return row ? view(row) : null;
  }

  /** The accounts of `ids` that exist, by id. */
  async findMany(ids: Iterable<string>): Promise<Map<string, Account>> {
    const rows = await accountsByIds(this.db, [...new Set(ids)]);
    return new Map(rows.map((row) => [row.id, view(row)]));
  }
}
