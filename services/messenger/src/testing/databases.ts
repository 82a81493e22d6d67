/** Fresh test databases (@mpay/service-kit/testing), named after the messenger. */
import { freshDatabase as fresh, type Backend, type FreshDatabase } from "@mpay/service-kit/testing";

export { testBackends, type Backend, type FreshDatabase } from "@mpay/service-kit/testing";

export function freshDatabase(backend: Backend): Promise<FreshDatabase> {
  return fresh(backend, "messenger_test");
}
