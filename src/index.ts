// Public library entry point of lkl. The API (images, mounts, file
// operations) will be exported from here as it is written.
export {};
