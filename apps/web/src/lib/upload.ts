import type { UploadedFile } from './types.ts';

/** Why an upload failed, in words for the composer (the server's `detail` when it gave one). */
export class UploadError extends Error {
  override name = 'UploadError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Uploads a file to a conversation (`POST /files`) with progress: the SDK's
 * `uploadFile` streams through fetch, which reports no upload progress in
 * browsers, so this one goes through XMLHttpRequest. The file itself is
 * streamed from disk by the browser, never read into memory here.
 */
export function uploadWithProgress(options: {
  conversationId: string;
  file: Blob;
  name: string;
  token: string;
  onProgress(fraction: number): void;
  signal?: AbortSignal;
}): Promise<UploadedFile> {
  const { conversationId, file, name, token, onProgress, signal } = options;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const query = new URLSearchParams({ conversation_id: conversationId, name });
    xhr.open('POST', `/files?${query}`);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const body = xhr.response as { detail?: unknown } | null;
      if (xhr.status === 201) resolve(body as UploadedFile);
      else
        reject(
          new UploadError(
            xhr.status,
            typeof body?.detail === 'string' ? body.detail : `Upload failed (${xhr.status})`,
          ),
        );
    };
    xhr.onerror = () => reject(new UploadError(0, 'No connection'));
    xhr.onabort = () => reject(new UploadError(0, 'Cancelled'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}
