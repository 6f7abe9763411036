/** Local images: the ImageService and what its callers need to name. */
export { ImageService, recoverImages } from './image-service.ts';
export type { ImageServiceDeps, ImportOptions } from './image-service.ts';
export type { ImageUser } from './remove.ts';
export { applyChanges, CHANGE_INSTRUCTIONS } from './changes.ts';
