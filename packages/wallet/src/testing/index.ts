/**
 * @mpay/wallet/testing: what only tests may use. The test card network's roots, whose private keys are
 * committed fixtures; a production build never imports this entry (issue 7, hole 2).
 */
export { TEST_NETWORK_ROOTS } from "./network-roots.ts";
