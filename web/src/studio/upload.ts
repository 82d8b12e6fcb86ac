// A master upload: one streamed `PUT /v1/editions/{id}/master` of the file's bytes (the browser
// sends the File with its Content-Length, reading it from disk as it goes), with upload progress
// from XMLHttpRequest (fetch has no upload progress). Not resumable: the API takes a master in one
// request; a failed or cancelled upload is restarted from the first byte.
import { ApiError, apiError, type MasterPublished } from '../api';

export interface Upload {
  done: Promise<MasterPublished>;
  cancel: () => void;
}

export function uploadMaster(
  token: string,
  editionId: string,
  file: Blob,
  priceCents: number | null,
  onProgress: (sent: number, total: number) => void,
): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<MasterPublished>((resolve, reject) => {
    const q = priceCents === null ? '' : `?price_cents=${priceCents}`;
    xhr.open('PUT', `/v1/editions/${encodeURIComponent(editionId)}/master${q}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.upload.onload = () => onProgress(file.size, file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as MasterPublished);
        } catch {
          reject(new ApiError(xhr.status, 'bad_reply', 'The server answered something unexpected.'));
        }
      } else reject(apiError(xhr.status, xhr.responseText));
    };
    xhr.onerror = () =>
      reject(new ApiError(0, 'network', 'The connection broke during the upload. Check your connection and restart it.'));
    xhr.onabort = () => reject(new ApiError(0, 'cancelled', 'Upload cancelled.'));
    xhr.send(file);
  });
  return { done, cancel: () => xhr.abort() };
}
