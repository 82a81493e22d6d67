/** Fresh test databases (@mpay/service-kit/testing), named after the pay server. */
import { freshDatabase as fresh, type Backend, type FreshDatabase } from "@mpay/service-kit/testing";

export { systemBackends, testBackends, type Backend, type FreshDatabase } from "@mpay/service-kit/testing";

export function freshDatabase(backend: Backend): Promise<FreshDatabase> {
  return fresh(backend, "mpay_test");
}
