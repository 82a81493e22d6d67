/** The AAD an endpoint's v1a private key is sealed with (its own module so sealing and signing code share it). */
export function v1aKeyAad(endpointId: string): string {
  return `webhook-v1a|${endpointId}`;
}
