/**
 * The checkout's QR code as an SVG `data:` image (the policy allows data: images, and an SVG stays sharp at any
 * size): dark on white with a quiet zone, error correction M, as phone cameras read best. Pure (the qrcode package
 * runs in Node too), so the e2e test makes the same image for the URL it expects and compares.
 */
import QRCode from "qrcode";

export async function qrCodeImage(text: string): Promise<string> {
  const svg = await QRCode.toString(text, {
    type: "svg",
    errorCorrectionLevel: "M",
    margin: 2,
    color: { dark: "#191f28ff", light: "#ffffffff" },
  });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
