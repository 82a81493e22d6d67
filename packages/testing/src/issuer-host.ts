/**
 * One issuer host in process, for a service's tests that need a card company of their own beside the test network
 * (the pay server's issuers-on-their-own-hosts test): services import harnesses through this package, never another
 * service's source.
 */
export { openTestHost, type TestHost, type TestHostOptions } from "../../../services/issuer/src/testing/host.ts";
