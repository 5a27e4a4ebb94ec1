"""Uploaded images, their renditions, listing, deletion and links."""
