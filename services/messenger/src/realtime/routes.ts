/**
 * `GET /api/ws`: the messenger app's live connection (realtime/connection.ts). The route takes no token (the
 * hello frame carries it) and answers plain HTTP requests 404; frames from the client are small (only the hello
 * matters), so the socket refuses anything over 4 KiB.
 */
import type { FastifyInstance } from "fastify";
import websocket from "@fastify/websocket";
import { LiveConnection, type LiveDeps } from "./connection.ts";

export const MAX_CLIENT_FRAME_BYTES = 4096;

export async function liveRoutes(app: FastifyInstance, deps: Omit<LiveDeps, "log">): Promise<void> {
  await app.register(websocket, { options: { maxPayload: MAX_CLIENT_FRAME_BYTES } });
  app.get("/api/ws", { websocket: true }, (socket, request) => {
    new LiveConnection(socket, { ...deps, log: request.log }).start();
  });
}
