/**
 * The messenger's parts wired together: database (migrated at open), accounts, the sign-in throttle, the app's
 * sessions, the official accounts' messages, friends and chats. The HTTP server, the CLI and the tests all start
 * from here, so they run the same code.
 */
import pino, { type Logger } from "pino";
import { migrateDatabase, openDatabase, type Database } from "./db/client.ts";
import { AccountService } from "./accounts/service.ts";
import { LoginThrottle } from "./signin/throttle.ts";
import { SessionService } from "./sessions/service.ts";
import { OfficialMessageService } from "./official/service.ts";
import { FriendService } from "./friends/service.ts";
import { ChatService } from "./chats/service.ts";
import { LiveBus } from "./realtime/bus.ts";
import { sweepExpired } from "./oidc/sweep.ts";
import type { MessengerConfig } from "./config.ts";

export interface MessengerSystem {
  config: MessengerConfig;
  database: Database;
  log: Logger;
  accounts: AccountService;
  throttle: LoginThrottle;
  sessions: SessionService;
  officialMessages: OfficialMessageService;
  friends: FriendService;
  chats: ChatService;
  /** Tells the live connections of this process what was just stored (realtime/bus.ts). */
  live: LiveBus;
  /** Deletes expired provider state, finished throttle windows and expired app sessions. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

/** JSON logs; `fd` 2 sends them to stderr (the CLI keeps stdout for its answers). */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      // Belt and braces: our own log calls never pass these, but a careless future one is cut.
      redact: {
        paths: [
          "password",
          "*.password",
          "req.headers.cookie",
          "req.headers.authorization",
          "*.client_secret",
          "*.code",
          "*.access_token",
          "*.id_token",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ fd, sync: fd === 2 }),
  );
}

/** `joinRunning` (the CLI): work through a running messenger that holds the PGlite folder, instead of being refused. */
export async function openMessengerSystem(
  config: MessengerConfig,
  log: Logger = createLogger(config.logLevel),
  options: { joinRunning?: boolean } = {},
): Promise<MessengerSystem> {
  const database = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.embeddedDatabaseDir,
    poolSize: config.dbPoolSize,
    owner: options.joinRunning ? "the messenger CLI" : "the messenger",
    joinRunning: options.joinRunning,
  });
  try {
    await migrateDatabase(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  const db = database.db;
  const accounts = new AccountService(db);
  const throttle = new LoginThrottle(db, config.loginLimits, config.clock);
  const sessions = new SessionService(
    db,
    accounts,
    throttle,
    config.appSessionTtlSeconds,
    Math.ceil(config.loginLimits.windowSeconds / 60),
  );
  const officialMessages = new OfficialMessageService(db, accounts, config.officialAccounts);
  const { chatLimits } = config;
  const friends = new FriendService(
    db,
    accounts,
    { perWindow: chatLimits.friendAddsPerWindow, windowSeconds: chatLimits.friendAddWindowSeconds },
    config.clock,
  );
  const chats = new ChatService(
    db,
    accounts,
    friends,
    { perWindow: chatLimits.messagesPerWindow, windowSeconds: chatLimits.messageWindowSeconds },
    config.clock,
  );
  // Stored first, then told: both services publish after their commit.
  const live = new LiveBus();
  chats.onStored(({ message, memberIds }) => live.publish(memberIds, { type: "chat_message", seq: message.seq }));
  officialMessages.onReceived((accountId, message) => live.publish([accountId], { type: "official_message", message }));
  return {
    config,
    database,
    log,
    accounts,
    throttle,
    sessions,
    officialMessages,
    friends,
    chats,
    live,
    async sweep() {
      const [models, windows, appSessions, lookups, sends] = await Promise.all([
        sweepExpired(db),
        throttle.sweep(),
        sessions.sweep(),
        friends.sweep(),
        chats.sweep(),
      ]);
      if (models + windows + appSessions + lookups + sends > 0)
        log.debug({ models, windows, appSessions, lookups, sends }, "swept expired rows");
    },
    close: () => database.close(),
  };
}
