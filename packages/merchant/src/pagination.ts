/**
 * A list call answers two ways (stripe-node's auto-pagination): `await` it for the first page, `{ data, hasMore }`,
 * or `for await` over it for every item of every page, each next page asked for with `startingAfter` = the last id
 * seen (docs/merchant-api.md: lists are newest first and resume after a given id, so an item is never seen twice
 * even while new ones arrive).
 */

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

export type FetchPage<T> = (startingAfter: string | undefined) => Promise<Page<T>>;

export class ListPromise<T extends { id: string }> implements PromiseLike<Page<T>>, AsyncIterable<T> {
  readonly #fetchPage: FetchPage<T>;
  #first: Promise<Page<T>> | undefined;

  constructor(fetchPage: FetchPage<T>) {
    this.#fetchPage = fetchPage;
  }

  /** The first page, asked for once however often it is awaited. */
  #firstPage(): Promise<Page<T>> {
    this.#first ??= this.#fetchPage(undefined);
    return this.#first;
  }

  then<A = Page<T>, B = never>(
    onfulfilled?: ((page: Page<T>) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#firstPage().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<Page<T> | B> {
    return this.#firstPage().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<Page<T>> {
    return this.#firstPage().finally(onfinally);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let page = await this.#firstPage();
    for (;;) {
      yield* page.data;
      const last = page.data.at(-1);
      if (!page.hasMore || last === undefined) return;
      page = await this.#fetchPage(last.id);
    }
  }

  /** Every item into an array, stopping at `limit` (required: a list can be long). */
  async toArray({ limit }: { limit: number }): Promise<T[]> {
    const items: T[] = [];
    if (limit <= 0) return items;
    for await (const item of this) {
      items.push(item);
      if (items.length >= limit) break;
    }
    return items;
  }
}
