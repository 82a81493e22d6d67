export function MessengerApp({ path }: { path: string }) {
  return <main>Messenger {path}</main>;
}
