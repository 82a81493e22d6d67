import type { CardRow } from "./store.ts";

/** The AAD of a wrapped K_srv: whose share, of which card, on which device, under which KEK version. */
export function kSrvAad(card: Pick<CardRow, "payerId" | "id" | "deviceId">, kekVersion: number): string {
  return `${card.payerId}|${card.id}|${card.deviceId}|kek:${kekVersion}`;
}
