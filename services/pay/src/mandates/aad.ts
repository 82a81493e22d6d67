/** The AAD of a mandate's sealed issuer token: the mandate's own id, so a token copied to another row fails to open. */
export function tokenAad(mandateId: string): string {
  return `recurring-token|${mandateId}`;
}
