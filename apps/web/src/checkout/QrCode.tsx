import QRCode from "qrcode";
import { useEffect, useState } from "react";

/**
 * A QR code as an SVG `data:` image (the policy allows data: images, and an SVG stays sharp at any size). Dark on
 * white with a quiet zone, as phone cameras read best.
 */
export function QrCode({ text, alt, size }: { text: string; alt: string; size: number }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    void QRCode.toString(text, {
      type: "svg",
      errorCorrectionLevel: "M",
      margin: 2,
      color: { dark: "#191f28ff", light: "#ffffffff" },
    }).then((svg) => {
      if (current) setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
    });
    return () => {
      current = false;
    };
  }, [text]);
  if (!src) return <div className="co-qr co-qr-pending" role="img" aria-label={alt} />;
  return <img className="co-qr" src={src} alt={alt} width={size} height={size} />;
}
