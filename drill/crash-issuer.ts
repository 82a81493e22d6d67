/**
 * The crash drill's issuer host (issue 12): killed (SIGKILL) at random moments under load, and at its own
 * after-commit point (ISSUER_TEST_KILL_AFTER_COMMIT: the authorization committed, its answer never sent), and
 * started again each time on the same database and port, so the pay server finds it where it was.
 *
 * After a random kill it comes back armed at its after-commit point: the next authorization it commits kills it
 * again, and then it comes back clean. So every random kill also brings one kill between commit and answer.
 */
import { startIssuerProcess, type IssuerProcess } from "../e2e/support/issuer-process.ts";

export interface IssuerKills {
  /** Killed by the drill at a random moment. */
  random: number;
  /** Died at ISSUER_TEST_KILL_AFTER_COMMIT: an authorization committed, not answered. */
  afterCommit: number;
}

export class IssuerSupervisor {
  readonly kills: IssuerKills = { random: 0, afterCommit: 0 };
  /** Deaths the drill did not cause (an exit of its own): each one is a finding. */
  readonly deaths: string[] = [];
  #current: IssuerProcess;
  #armed = false;
  #closing = false;
  /** The restart in progress, if any: the host is down until it settles. */
  #restarting: Promise<void> | null = null;

  private constructor(
    private readonly env: Record<string, string>,
    first: IssuerProcess,
  ) {
    this.#current = first;
    this.#watch(first, false);
  }

  static async start(env: Record<string, string>): Promise<IssuerSupervisor> {
    return new IssuerSupervisor(env, await startIssuerProcess(env));
  }

  /** Down between a kill and its restart: nothing can be authorized, captured, voided or refunded meanwhile. */
  get down(): boolean {
    return this.#restarting !== null;
  }

  get current(): IssuerProcess {
    return this.#current;
  }

  /** SIGKILL now, wherever it is, and start it again armed at its after-commit point; false when it was down. */
  async killAtRandom(): Promise<boolean> {
    if (this.#restarting || this.#closing) return false;
    const doomed = this.#current;
    this.#restarting = (async () => {
      await doomed.kill9();
      this.kills.random++;
      await this.#start(true);
    })();
    await this.#restarting;
    return true;
  }

  /** Waits for a restart in progress, and brings the host back clean if it is still armed (the drill's end). */
  async settle(): Promise<void> {
    while (this.#restarting) await this.#restarting;
    if (!this.#armed) return;
    const armed = this.#current;
    this.#restarting = (async () => {
      this.#armed = false; // its SIGTERM exit is not a finding
      await armed.stop();
      await this.#start(false);
    })();
    await this.#restarting;
  }

  async close(): Promise<void> {
    this.#closing = true;
    while (this.#restarting) await this.#restarting.catch(() => undefined);
    await this.#current.stop();
  }

  async #start(armed: boolean): Promise<void> {
    try {
      const env = armed ? { ...this.env, ISSUER_TEST_KILL_AFTER_COMMIT: "on" } : this.env;
      // The port was just freed by the dead process; a start that loses a race for it is tried again.
      for (let attempt = 1; ; attempt++) {
        try {
          this.#current = await startIssuerProcess(env);
          break;
        } catch (error) {
          if (attempt >= 3) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      this.#armed = armed;
      this.#watch(this.#current, armed);
    } finally {
      this.#restarting = null;
    }
  }

  /** An exit the drill did not ask for: the after-commit point (SIGKILL while armed), or a finding. */
  #watch(process: IssuerProcess, armed: boolean): void {
    process.child.once("exit", (code, signal) => {
      if (this.#closing || this.#restarting || process !== this.#current) return;
      if (armed && signal === "SIGKILL") this.kills.afterCommit++;
      else this.deaths.push(`exit ${signal ?? code}: ${process.output().slice(-2000)}`);
      this.#restarting = this.#start(false).catch((error: unknown) => {
        this.deaths.push(`could not start again: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
  }
}
