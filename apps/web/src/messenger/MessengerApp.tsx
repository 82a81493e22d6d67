/**
 * The messenger app (every path that is not checkout or wallet): sign-in and sign-up while signed out; signed in,
 * the chat list, friends, rooms, MPay's official chat, and the `/open/pay/:paymentId` entry the checkout's QR
 * code opens, which continues into the wallet's pay sheet (after signing in when needed).
 */
import { useEffect } from "react";
import { match, navigate } from "../shell/router.ts";

/**
 * A redirect from an effect, one task later: on the first render the shell's usePath subscribes in its own effect,
 * which runs after ours (parents' effects run after their children's), so a navigate() made right away would change
 * the address without re-rendering. Returns the effect's cleanup.
 */
function navigateSoon(path: string): () => void {
  const timer = setTimeout(() => navigate(path, { replace: true }), 0);
  return () => clearTimeout(timer);
}
import { payPathOf } from "./actions.ts";
import { peekContinue, rememberContinue } from "./session.ts";
import { SignedIn } from "./SignedIn.tsx";
import { SignIn, SignUp } from "./SignIn.tsx";
import { useSession, useTexts } from "./ui.tsx";
import "./messenger.css";

function OpenPay({ paymentId, signedIn }: { paymentId: string; signedIn: boolean }) {
  const { t } = useTexts();
  const target = payPathOf(paymentId);
  useEffect(() => {
    if (!target) return;
    if (!signedIn) rememberContinue(target);
    return navigateSoon(signedIn ? target : "/signin");
  }, [target, signedIn]);
  return (
    <main className="msg-auth">
      <p className={target ? "msg-empty" : "msg-error"} role="status">
        {target ? t("openingPayment") : t("invalidPaymentLink")}
      </p>
    </main>
  );
}

export function MessengerApp({ path }: { path: string }) {
  const { t } = useTexts();
  const session = useSession();
  const open = match("/open/pay/:paymentId", path);

  useEffect(() => {
    if (session && (path === "/signin" || path === "/signup")) return navigateSoon("/");
  }, [session, path]);

  if (open?.paymentId !== undefined) return <OpenPay paymentId={open.paymentId} signedIn={session !== null} />;
  if (!session) {
    if (path === "/signup") return <SignUp />;
    const continuing = peekContinue()?.startsWith("/wallet/pay/");
    return <SignIn notice={continuing ? t("signInToContinue") : undefined} />;
  }
  return <SignedIn path={path} />;
}
