import { downloadFile, useFileSrc } from '../api/files.js';
import { getToken } from '../api/auth.js';

type ImgProps = React.ImgHTMLAttributes<HTMLImageElement> & { src: string; alt: string };

/** An <img> of a server file (or any URL) that also loads when the server needs a token. */
export function FileImage({ src, alt, ...props }: ImgProps): React.JSX.Element | null {
  const shown = useFileSrc(src);
  if (shown === undefined)
    return <span className={`img-loading ${props.className ?? ''}`} aria-busy="true" />;
  return <img {...props} src={shown} alt={alt} />;
}

/** A link to a server file: opens it (new tab) or, with `download`, saves it; works with a token too. */
export function FileLink({
  href,
  download,
  children,
  ...props
}: React.AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; download?: string }): React.JSX.Element {
  // A link that opens the file shares the blob of its image; a download is fetched only when clicked.
  const src = useFileSrc(download === undefined ? href : undefined);
  return (
    <a
      {...props}
      href={src ?? href}
      download={download}
      onClick={(e) => {
        // With a token the plain URL would be refused: fetch it first, then save it.
        if (download !== undefined && getToken() !== undefined) {
          e.preventDefault();
          void downloadFile(href, download);
        }
      }}
    >
      {children}
    </a>
  );
}
