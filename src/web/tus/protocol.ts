/** Where resumable uploads are created (POST) and each one lives (HEAD, PATCH, DELETE). */
export const TUS_PATH = '/api/uploads';
/** The final PATCH's answer names the job the upload became. */
export const JOB_ID_HEADER = 'Histeq-Job-Id';
