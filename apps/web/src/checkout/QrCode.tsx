import { useEffect, useState } from "react";
import { qrCodeImage } from "./qr.ts";

/** The QR code of `text` (qr.ts), with a placeholder of the same size while it is drawn. */
export function QrCode({ text, alt, size }: { text: string; alt: string; size: number }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    void qrCodeImage(text).then((image) => {
      if (current) setSrc(image);
    });
    return () => {
      current = false;
    };
  }, [text]);
  if (!src) return <div className="co-qr co-qr-pending" role="img" aria-label={alt} />;
  return <img className="co-qr" src={src} alt={alt} width={size} height={size} />;
}
