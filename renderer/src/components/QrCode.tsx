/** A QR code drawn locally as an SVG image (no network; the CSP allows data: images). */
import { useEffect, useState } from 'react';
import QRCode from 'qrcode';

export function QrCode(props: { text: string; label: string }) {
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    let live = true;
    QRCode.toString(props.text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M', color: { dark: '#1c1917', light: '#ffffff' } })
      .then((svg) => live && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`))
      .catch(() => live && setSrc(undefined));
    return () => {
      live = false;
    };
  }, [props.text]);
  if (!src) return <div className="qr qr-empty" aria-hidden="true" />;
  return <img className="qr" src={src} alt={props.label} width={176} height={176} />;
}
