import { ApiError } from "../api/client";
import { messageTypeOf, namedForUpload, sizeText, uploadErrorKey } from "./attachments";

test("refused uploads read as sentences: 413 and 415 by status, the rest by code", () => {
  expect(uploadErrorKey(new ApiError(413, "too_large", "over"))).toBe("err_too_large");
  expect(uploadErrorKey(new ApiError(413, "error", "Request Entity Too Large"))).toBe("err_too_large");
  expect(uploadErrorKey(new ApiError(415, "unsupported_type", "svg"))).toBe("err_unsupported_type");
  expect(uploadErrorKey(new ApiError(422, "image_too_large", "px"))).toBe("err_image_too_large");
  expect(uploadErrorKey(new ApiError(422, "invalid_file_name", "rtl"))).toBe("err_invalid_file_name");
  expect(uploadErrorKey(new ApiError(429, "rate_limited", "slow"))).toBe("rate_limited");
  expect(uploadErrorKey(new ApiError(0, "network", "cut"))).toBe("err_upload");
  expect(uploadErrorKey(new Error("?"))).toBe("err_upload");
});

test("an upload is sent as a message of its kind", () => {
  expect(messageTypeOf("image")).toBe("image");
  expect(messageTypeOf("audio")).toBe("audio");
  expect(messageTypeOf("video")).toBe("video");
  expect(messageTypeOf("file")).toBe("file");
  expect(messageTypeOf(undefined)).toBe("file");
});

test("a pasted screenshot gets a name of its own; named files keep theirs", () => {
  const shot = new File(["x"], "image.png", { type: "image/png" });
  expect(namedForUpload(shot, new Date("2026-12-01T16:30:05Z")).name).toBe("pasted-20261201-163005.png");
  const doc = new File(["x"], "quote.pdf", { type: "application/pdf" });
  expect(namedForUpload(doc)).toBe(doc);
  expect(sizeText(512)).toBe("512 B");
  expect(sizeText(48213)).toBe("48 KB");
  expect(sizeText(3 * 1024 * 1024)).toBe("3.0 MB");
});
