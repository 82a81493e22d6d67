/** The simulator's HTTP connector against the issuer simulator (services/issuer), through the conformance suite. */
import { TestClock } from "@mpay/service-kit";
import { testBackends } from "../../testing/databases.ts";
import { openTestNetwork } from "@mpay/testing/network";
import { connectorConformance } from "../connector.case.ts";
import type { IssuerConnector } from "../connector.ts";
import { SimulatorConnector } from "./connector.ts";

for (const backend of testBackends()) {
  connectorConformance(`simulator HTTP connector [${backend}]`, async () => {
    const issuerClock = new TestClock();
    let connector: IssuerConnector | undefined;
    // The pay server's own connector, as its IssuerService holds it (kept private there).
    const net = await openTestNetwork(backend, {
      issuerConfig: { clock: issuerClock },
      connector: (real) => (connector = real),
    });
    if (!connector) throw new Error("the test network did not hand over its connector");
    return {
      connector,
      issuerId: "sampo",
      cards: {
        approves: { pan: "5111000000000021", expiry: "12/31", cvc: "932", phone: "+821055510002" },
        lowLimit: { pan: "4111000000000040", expiry: "12/31", cvc: "652", phone: "+821055510004", limit: 30_000 },
      },
      latestCode: (phone) => net.latestCode(phone),
      signPinStatement: (statement) => net.pay.system.statementSigner.signPinStatement(statement),
      issuerClock,
      unauthorized: new SimulatorConnector({ baseUrl: net.issuerUrl, acquirerSecret: "x".repeat(43) }),
      unreachable: new SimulatorConnector({
        baseUrl: "http://127.0.0.1:9",
        acquirerSecret: net.acquirerSecret,
        timeoutMs: 1_000,
      }),
      close: () => net.close(),
    };
  });
}
