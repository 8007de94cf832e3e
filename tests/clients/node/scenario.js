'use strict';
// Drives thumbd's API v3 with the official Kaltura Node client (npm kaltura-client 21.20.0):
// a session, an image upload, thumbnail assets, thumbnail params and a served thumbnail URL.
// Prints one line per step and exits with status 1 on the first failure (2 when the
// environment is incomplete).
//
// Environment:
//   KALTURA_SERVICE_URL   server base URL on a loopback address, e.g. http://127.0.0.1:8080
//   KALTURA_PARTNER_ID    partner to work as
//   KALTURA_ADMIN_SECRET  the partner's admin secret
//   SCENARIO_IMAGE        path of a JPEG file

// Clear the proxy variables that axios honours, because every address here is loopback.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) {
	delete process.env[name];
}
process.env.NO_PROXY = process.env.no_proxy = '*';

const fs = require('fs');
const http = require('http');
const path = require('path');

// Loaded in main() so that a missing install gives a clear message.
let kaltura;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const DEFAULT_THUMB_TAG = 'default_thumb';
// How long media.get may report a non-ready entry after addContent.
const READY_TIMEOUT_MS = 30000;

class ScenarioFailure extends Error {}

function check(condition, message) {
	if (!condition) {
		throw new ScenarioFailure(message);
	}
}

// Describes a rejection. The client rejects API errors with the server's plain
// {code, message} object and transport failures with an AxiosError.
function describeError(error) {
	if (error instanceof ScenarioFailure) {
		return error.message;
	}
	if (error && error.isAxiosError) {
		const url = error.config ? error.config.url : 'unknown URL';
		if (!error.response) {
			return `request to ${url} failed: ${error.message}`;
		}
		const body = typeof error.response.data === 'string' ? error.response.data : JSON.stringify(error.response.data);
		return `request to ${url} returned HTTP ${error.response.status} (the client needs HTTP 200, even for API errors): ${String(body).slice(0, 500)}`;
	}
	if (error && typeof error === 'object' && error.code && error.message && !(error instanceof Error)) {
		return `API error ${error.code}: ${error.message}`;
	}
	return error && error.stack ? error.stack : String(error);
}

async function expectApiError(code, request, client) {
	let result;
	try {
		result = await request.execute(client);
	} catch (error) {
		check(
			error && !(error instanceof Error) && error.code === code,
			`expected error ${code}, got ${describeError(error)}`,
		);
		return error;
	}
	throw new ScenarioFailure(`expected error ${code}, but the call returned ${JSON.stringify(result)}`);
}

// Reads [width, height] from the first start-of-frame marker of a JPEG.
function jpegSize(data) {
	check(data[0] === 0xff && data[1] === 0xd8, `not a JPEG: starts with ${data.subarray(0, 8).toString('hex')}`);
	let position = 2;
	while (position + 4 <= data.length) {
		check(data[position] === 0xff, `JPEG marker expected at byte ${position}`);
		const marker = data[position + 1];
		if (marker === 0xff) {
			position += 1;
			continue;
		}
		if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
			position += 2;
			continue;
		}
		const length = data.readUInt16BE(position + 2);
		// SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), carry the frame size.
		if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
			return [data.readUInt16BE(position + 7), data.readUInt16BE(position + 5)];
		}
		position += 2 + length;
	}
	throw new ScenarioFailure('JPEG has no start-of-frame marker');
}

// GETs a loopback URL and resolves to {status, contentType, body}.
function fetch(url) {
	const parsed = new URL(url);
	check(parsed.protocol === 'http:', `refusing to fetch ${url}: only http URLs are fetched`);
	check(LOOPBACK_HOSTS.has(parsed.hostname), `refusing to fetch ${url}: host ${parsed.hostname} is not a loopback address`);
	return new Promise((resolve, reject) => {
		const request = http.get(url, { timeout: 60000 }, (response) => {
			const chunks = [];
			response.on('data', (chunk) => chunks.push(chunk));
			response.on('end', () => resolve({
				status: response.statusCode,
				contentType: response.headers['content-type'] || '',
				body: Buffer.concat(chunks),
			}));
			response.on('error', reject);
		});
		request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
		request.on('error', reject);
	});
}

function sleep(milliseconds) {
	return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

class Scenario {
	constructor(environment) {
		this.serviceUrl = environment.KALTURA_SERVICE_URL.replace(/\/+$/, '');
		this.partnerId = Number.parseInt(environment.KALTURA_PARTNER_ID, 10);
		this.adminSecret = environment.KALTURA_ADMIN_SECRET;
		this.imagePath = environment.SCENARIO_IMAGE;
		this.imageSize = jpegSize(fs.readFileSync(this.imagePath));
		check(Number.isInteger(this.partnerId), `KALTURA_PARTNER_ID ${environment.KALTURA_PARTNER_ID} is not an integer`);
		const host = new URL(this.serviceUrl).hostname;
		check(LOOPBACK_HOSTS.has(host), `KALTURA_SERVICE_URL host ${host} is not a loopback address`);

		const config = new kaltura.Configuration();
		config.serviceUrl = this.serviceUrl;
		// The default logger prints every request, session.start's secret included.
		config.setLogger({ log() {}, error() {}, debug() {} });
		this.client = new kaltura.Client(config);
	}

	steps() {
		return [
			['session.start ADMIN', () => this.startSession()],
			['session.start wrong secret', () => this.startSessionWithWrongSecret()],
			['upload image entry', () => this.uploadImage()],
			['media.get image', () => this.getImageEntry()],
			['thumbAsset.addFromImage', () => this.addThumbFromImage()],
			['thumbAsset.list', () => this.listAssets()],
			['thumbAsset.setAsDefault', () => this.setDefaultAsset()],
			['thumbAsset.delete default', () => this.deleteDefaultAsset()],
			['thumbParams.add + get', () => this.addAndGetParams()],
			['thumbParams.list', () => this.listParams()],
			['thumbAsset.getUrl', () => this.getUrl()],
		];
	}

	async run(request) {
		return request.execute(this.client);
	}

	async startSession() {
		const ks = await this.run(kaltura.services.session.start(
			this.adminSecret, 'scenario-admin', kaltura.enums.SessionType.ADMIN, this.partnerId));
		check(typeof ks === 'string' && ks.length > 20, `session.start returned ${JSON.stringify(ks)}, not a KS`);
		this.client.setKs(ks);
		return `KS of ${ks.length} characters`;
	}

	async startSessionWithWrongSecret() {
		const config = new kaltura.Configuration();
		config.serviceUrl = this.serviceUrl;
		config.setLogger({ log() {}, error() {}, debug() {} });
		const other = new kaltura.Client(config);
		const error = await expectApiError('START_SESSION_ERROR', kaltura.services.session.start(
			'not-the-secret', '', kaltura.enums.SessionType.ADMIN, this.partnerId), other);
		return `START_SESSION_ERROR: ${error.message}`;
	}

	async uploadImage() {
		const size = fs.statSync(this.imagePath).size;
		const token = await this.run(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({
			fileName: path.basename(this.imagePath),
			fileSize: size,
		})));
		check(typeof token.id === 'string' && token.id.length > 0, `uploadToken.add returned ${JSON.stringify(token)}`);
		const uploaded = await this.run(kaltura.services.uploadToken.upload(token.id, this.imagePath));
		check(uploaded.status === kaltura.enums.UploadTokenStatus.FULL_UPLOAD,
			`uploaded token has status ${uploaded.status}, expected FULL_UPLOAD (2)`);
		check(uploaded.uploadedFileSize === size, `uploadedFileSize is ${uploaded.uploadedFileSize}, the file has ${size} bytes`);

		let entry = await this.run(kaltura.services.media.add(new kaltura.objects.MediaEntry({
			name: 'scenario image (node)',
			mediaType: kaltura.enums.MediaType.IMAGE,
		})));
		check(typeof entry.id === 'string' && entry.id.length > 0, `media.add returned ${JSON.stringify(entry)}`);
		entry = await this.run(kaltura.services.media.addContent(
			entry.id, new kaltura.objects.UploadedFileTokenResource({ token: token.id })));
		check(entry.mediaType === kaltura.enums.MediaType.IMAGE, `entry has mediaType ${entry.mediaType}, expected 2`);
		this.entry = entry;
		return `entry ${entry.id}`;
	}

	async getImageEntry() {
		const deadline = Date.now() + READY_TIMEOUT_MS;
		let entry;
		for (;;) {
			entry = await this.run(kaltura.services.media.get(this.entry.id));
			// Entry status is a string enum ("2"), unlike thumbnail asset status.
			if (String(entry.status) === kaltura.enums.EntryStatus.READY) {
				break;
			}
			check(Date.now() < deadline, `entry ${this.entry.id} still has status ${entry.status} after ${READY_TIMEOUT_MS} ms`);
			await sleep(500);
		}
		const [width, height] = this.imageSize;
		check(entry.width === width && entry.height === height,
			`image entry is ${entry.width}x${entry.height}, the JPEG is ${width}x${height}`);
		return `READY, ${entry.width}x${entry.height}`;
	}

	async addThumbFromImage() {
		const asset = await this.run(kaltura.services.thumbAsset.addFromImage(this.entry.id, this.imagePath));
		check(asset.status === kaltura.enums.ThumbAssetStatus.READY, `addFromImage gave status ${asset.status}, expected READY (2)`);
		const [width, height] = this.imageSize;
		check(asset.width === width && asset.height === height, `addFromImage gave ${asset.width}x${asset.height}, expected ${width}x${height}`);
		check(asset.entryId === this.entry.id, `addFromImage gave entryId ${asset.entryId}`);
		this.asset = asset;
		return `asset ${asset.id}`;
	}

	async listAssets() {
		const listed = await this.run(kaltura.services.thumbAsset.listAction(
			new kaltura.objects.ThumbAssetFilter({ entryIdEqual: this.entry.id }),
			new kaltura.objects.FilterPager({ pageSize: 50, pageIndex: 1 })));
		check(listed.objectType === 'KalturaThumbAssetListResponse', `list returned objectType ${listed.objectType}`);
		check(Array.isArray(listed.objects), `list returned objects ${JSON.stringify(listed.objects)}`);
		const ids = listed.objects.map((asset) => asset.id);
		check(ids.includes(this.asset.id), `list returned ${JSON.stringify(ids)}, missing ${this.asset.id}`);
		check(listed.totalCount === listed.objects.length, `totalCount ${listed.totalCount} but ${listed.objects.length} objects`);
		return `${listed.totalCount} assets`;
	}

	async setDefaultAsset() {
		const result = await this.run(kaltura.services.thumbAsset.setAsDefault(this.asset.id));
		check(result === null || result === '', `setAsDefault returned ${JSON.stringify(result)}, expected null`);
		const asset = await this.run(kaltura.services.thumbAsset.get(this.asset.id));
		const tags = (asset.tags || '').split(',').map((tag) => tag.trim());
		check(tags.includes(DEFAULT_THUMB_TAG), `default asset has tags ${JSON.stringify(asset.tags)}, expected ${DEFAULT_THUMB_TAG}`);
		return `${this.asset.id} is the default`;
	}

	async deleteDefaultAsset() {
		const error = await expectApiError('THUMB_ASSET_IS_DEFAULT',
			kaltura.services.thumbAsset.deleteAction(this.asset.id), this.client);
		return error.message;
	}

	async addAndGetParams() {
		const fields = {
			name: 'scenario 160x90 (node)',
			width: 160,
			height: 90,
			cropType: kaltura.enums.ThumbCropType.CROP,
			quality: 75,
		};
		const added = await this.run(kaltura.services.thumbParams.add(new kaltura.objects.ThumbParams(fields)));
		check(Number.isInteger(added.id) && added.id > 0, `thumbParams.add returned id ${JSON.stringify(added.id)}`);
		const fetched = await this.run(kaltura.services.thumbParams.get(added.id));
		for (const [field, value] of Object.entries(fields)) {
			check(added[field] === value, `thumbParams.add: ${field} is ${JSON.stringify(added[field])}, expected ${JSON.stringify(value)}`);
			check(fetched[field] === value, `thumbParams.get: ${field} is ${JSON.stringify(fetched[field])}, expected ${JSON.stringify(value)}`);
		}
		this.params = added;
		return `params ${added.id}`;
	}

	async listParams() {
		const listed = await this.run(kaltura.services.thumbParams.listAction(
			new kaltura.objects.ThumbParamsFilter(), new kaltura.objects.FilterPager({ pageSize: 500 })));
		check(listed.objectType === 'KalturaThumbParamsListResponse', `list returned objectType ${listed.objectType}`);
		const ids = listed.objects.map((params) => params.id);
		check(ids.includes(this.params.id), `thumbParams.list returned ${JSON.stringify(ids)}, missing ${this.params.id}`);
		return `${listed.totalCount} params`;
	}

	async getUrl() {
		const url = await this.run(kaltura.services.thumbAsset.getUrl(this.asset.id));
		check(typeof url === 'string' && /^https?:\/\//.test(url), `getUrl returned ${JSON.stringify(url)}, not a URL`);
		const response = await fetch(url);
		check(response.status === 200, `GET ${url} returned HTTP ${response.status}: ${response.body.subarray(0, 200).toString()}`);
		const contentType = response.contentType.split(';')[0].trim();
		check(contentType === 'image/jpeg', `GET ${url} returned content-type ${JSON.stringify(response.contentType)}, expected image/jpeg`);
		const [width, height] = jpegSize(response.body);
		return `${url} serves a ${width}x${height} JPEG`;
	}
}

function fail(step, reason) {
	console.log(`FAIL ${step}: ${reason}`);
	process.exit(1);
}

async function main() {
	const required = ['KALTURA_SERVICE_URL', 'KALTURA_PARTNER_ID', 'KALTURA_ADMIN_SECRET', 'SCENARIO_IMAGE'];
	const missing = required.filter((name) => !process.env[name]);
	if (missing.length > 0) {
		console.log(`missing environment variables: ${missing.join(', ')} (see the comment at the top of scenario.js)`);
		process.exit(2);
	}

	try {
		kaltura = require('kaltura-client');
	} catch (error) {
		fail('setup', `cannot load kaltura-client (${error.message.split('\n')[0]}): run npm install in tests/clients/node, or set NODE_PATH to a node_modules folder that has it`);
	}

	let scenario;
	try {
		scenario = new Scenario(process.env);
	} catch (error) {
		fail('setup', describeError(error));
	}
	for (const [name, step] of scenario.steps()) {
		let detail;
		try {
			detail = await step();
		} catch (error) {
			fail(name, describeError(error));
		}
		console.log(`ok   ${name}: ${detail}`);
	}
	console.log('all steps passed');
}

main();
