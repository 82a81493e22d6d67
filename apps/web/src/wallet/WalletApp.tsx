export function WalletApp({ path }: { path: string }) {
  return <main>Wallet {path}</main>;
}
