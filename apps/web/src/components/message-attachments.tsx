import { formatBytes } from '../lib/format.ts';
import type { Attachment } from '../lib/types.ts';
import { trpc } from '../trpc.ts';
import { FileIcon } from './icons.tsx';

/** Widest an image shows in a bubble; its height follows from its stored size. */
const MAX_IMAGE_WIDTH = 320;
/** Signed links work an hour; fetched again well before. */
const LINK_STALE_MS = 20 * 60 * 1000;

/** A download URL an <img> or a link can use (no Authorization header): signed for me and this file. */
function useFileLink(id: string): string | undefined {
  const { data } = trpc.files.link.useQuery(
    { id },
    { staleTime: LINK_STALE_MS, refetchInterval: LINK_STALE_MS },
  );
  return data?.url;
}

/** An image at its stored size (scaled down to fit): the space is kept before it loads, so nothing moves. */
function AttachedImage({ file }: { file: Attachment }) {
  const url = useFileLink(file.id);
  const width = Math.min(file.width ?? MAX_IMAGE_WIDTH, MAX_IMAGE_WIDTH);
  const ratio = file.width && file.height ? `${file.width} / ${file.height}` : '4 / 3';
  return (
    <a
      className="attachment-image"
      href={url}
      target="_blank"
      rel="noopener noreferrer"
      style={{ width, aspectRatio: ratio }}
      aria-label={`Open image ${file.name}`}
    >
      {url && (
        <img src={url} alt={file.name} width={file.width ?? undefined} height={file.height ?? undefined} />
      )}
    </a>
  );
}

function AttachedFile({ file }: { file: Attachment }) {
  const url = useFileLink(file.id);
  return (
    <a
      className="attachment-file"
      href={url}
      download={file.name}
      aria-label={`Download ${file.name}, ${formatBytes(file.size)}`}
    >
      <FileIcon width={18} height={18} />
      <span className="attachment-name">{file.name}</span>
      <span className="attachment-size">{formatBytes(file.size)}</span>
    </a>
  );
}

/** What a message carries: images inline, other files as download chips. */
export function MessageAttachments({ files }: { files: readonly Attachment[] }) {
  if (files.length === 0) return null;
  return (
    <div className="message-attachments">
      {files.map((file) =>
        file.width && file.height ? (
          <AttachedImage key={file.id} file={file} />
        ) : (
          <AttachedFile key={file.id} file={file} />
        ),
      )}
    </div>
  );
}
