package i18n

// whyMessages are the strings of the way from an unexpected code to its
// answer: the signed-out /why verdict and its general advice, the story
// page that leads with the answer, the requests waiting for the holder
// after sign-in, and the stop a recipient without an account can make.
// Same rules as messages.
var whyMessages = []struct{ key, en, ja string }{
	// The signed-out /why/{reference}: a verdict, advice for the kind of
	// message (never anything about an account), and the way in.
	{"why.verdict_ours", "Genuine: we sent the message with reference %s.", "本物です：参照番号 %s のメッセージは当サービスが送信しました。"},
	{"why.general.second_step", "A sign-in code you did not ask for means someone typed your password: tell no one the code, then sign in (typing our address yourself) and answer \"This wasn't me\".", "心当たりのないログインコードは、誰かがあなたのパスワードを入力したということです。コードは誰にも教えず、当サービスのアドレスをご自身で入力してログインし、「心当たりがない」と回答してください。"},
	{"why.general.step_up", "A code to confirm a change comes when a device signed in to your account asks to change something: if it wasn't you, sign in and answer \"This wasn't me\".", "変更の確認コードは、ログイン中の端末が設定を変えようとしたときに届きます。心当たりがなければ、ログインして「心当たりがない」と回答してください。"},
	{"why.general.reset_password", "A reset code you did not ask for means someone typed your address on the reset page; nothing changes unless the code is entered, so tell it to no one.", "心当たりのない再設定コードは、誰かが再設定のページにあなたのアドレスを入力したということです。コードが入力されない限り何も変わらないので、誰にも教えないでください。"},
	{"why.general.code_signin", "A sign-in code you did not ask for means someone asked to sign in with your address; no one can sign in without it, so tell it to no one.", "心当たりのないログインコードは、誰かがあなたのアドレスでログインしようとしたということです。コードがなければ誰もログインできないので、誰にも教えないでください。"},
	{"why.general.confirm_email", "A sign-up code you did not ask for usually means someone mistyped their own address; you need no account to stop it — enter the code below.", "心当たりのない登録コードは、たいてい誰かがご自身のアドレスを打ち間違えたものです。アカウントがなくても、下にコードを入力すれば止められます。"},
	{"why.general.change_email", "This code came because someone typed your address as their new one, probably by mistake; you need no account to stop it — enter the code below.", "誰かがあなたのアドレスを新しいアドレスとして入力したため（おそらく入力間違い）、このコードが届きました。アカウントがなくても、下にコードを入力すれば止められます。"},
	{"why.general.add_phone", "This code came because someone typed your number for their codes, probably by mistake; you need no account to stop it — enter the code below.", "誰かがあなたの番号をコードの送信先として入力したため（おそらく入力間違い）、このコードが届きました。アカウントがなくても、下にコードを入力すれば止められます。"},
	{"why.general.notice", "This message told of a change to an account, without a code: if you did not make it, sign in and check.", "このメッセージはコードではなく、アカウントの変更のお知らせです。心当たりがなければ、ログインしてご確認ください。"},
	{"why.signin_next", "Sign in to see where it came from and answer it", "ログインして、送信した理由の確認と回答をする"},

	// "I didn't ask for this" without an account.
	{"why.stop_heading", "I didn't ask for this", "心当たりがない"},
	{"why.stop_intro", "Enter the code from this message: it stops the code, and codes from whoever typed your address or number, for a day. Nothing else is asked or shown.", "このメッセージのコードを入力してください。このコードと、あなたのアドレスまたは番号を入力した人からのコードを1日止めます。ほかには何もお尋ねしません。"},
	{"why.stop_wrong", "That is not this message's code. Check it; if several codes came, enter the newest.", "このメッセージのコードではありません。ご確認ください。複数届いた場合は、最新のコードを入力してください。"},
	{"why.stop_submit", "Stop these codes", "コードを止める"},
	{"why.stop_title", "Stopped", "止めました"},
	{"why.stopped", "Done: this code no longer works, and the person who typed your address or number cannot send you codes from that device or network until %s.", "完了しました：このコードは使えなくなりました。あなたのアドレスまたは番号を入力した人は、%sまで、その端末とネットワークからコードを送れません。"},
	{"why.stop_used", "This code had already been used before you stopped it: an account now uses this address or number. If that was not you, sign in to it or reset its password from the sign-in page, typing our address yourself.", "このコードは止める前にすでに使われたため、このアドレスまたは番号はアカウントで使われています。心当たりがなければ、当サービスのアドレスをご自身で入力し、ログインページからログインするか、パスワードを再設定してください。"},
	{"why.stop_already", "This code was already stopped: nothing more was needed.", "このコードはすでに止めてあります。追加の対応は不要です。"},
	{"why.stop_locked", "This code was entered wrongly too many times, so it can no longer be used and nothing more can come of it. If another code arrives, enter that one here.", "このコードは誤った入力が続いたため、もう使えません。このコードで何かが起きることはありません。別のコードが届いた場合は、そのコードをここに入力してください。"},
	{"why.stop_nothing_else", "Nothing else to do: no account of yours was involved.", "ほかに対応は不要です。"},

	// The story page: the heading says why, the next line what it means.
	{"story.heading.password_known", "This code was sent because your password was typed on a new device", "このコードは、あなたのパスワードが新しい端末で入力されたため送られました"},
	{"story.heading.old_device", "This code was sent because a device that signed in to your account before is signing in again", "このコードは、以前このアカウントにログインした端末から再びログインしようとしているため送られました"},
	{"story.heading.old_device_this", "This code was sent because this device signed in again", "このコードは、前にもお使いのこの端末で再びログインしたため送られました"},
	{"story.heading.mistyped", "This code was sent because your address or number was typed on our site", "このコードは、あなたのアドレスまたは番号が当サービスで入力されたため送られました"},
	{"story.heading.reset_requested", "This code was sent because someone asked to reset your password", "このコードは、パスワードの再設定が申し込まれたため送られました"},
	{"story.heading.code_signin", "This code was sent because someone asked to sign in to your account with a code", "このコードは、コードでのログインが申し込まれたため送られました"},
	{"story.heading.you_just_now", "This code was sent because a device signed in to your account asked for it", "このコードは、ログイン中の端末からの操作で送られました"},
	{"story.heading.connected_app", "This code was sent because %s, an application you connected, asked you to confirm it's you", "このコードは、連携したアプリ「%s」が本人確認を求めたため送られました"},
	{"story.heading.own.confirm_email", "This was the code you used to create your account", "アカウントを作成したときにお使いになった確認コードです"},
	{"story.heading.own.change_email", "This was the code you used to change your email address", "メールアドレスを変更したときにお使いになった確認コードです"},
	{"story.heading.own.add_phone", "This was the code you used to add your phone number", "電話番号を登録したときにお使いになった確認コードです"},
	{"story.heading.own", "This was the code of your own request", "ご自身の手続きでお使いになった確認コードです"},
	{"story.heading.notice", "This message told you about your account", "アカウントについてのお知らせです"},
	{"story.meaning.password_known", "If this wasn't you, someone else knows your password.", "ご自身でなければ、パスワードが他人に知られています。"},
	{"story.meaning.old_device", "If this wasn't you, a device you no longer have is being used by someone else.", "ご自身でなければ、お手元にない端末が他人に使われています。"},
	{"story.meaning.old_device_this", "This is the device you are using now: nothing to worry about if you signed in here.", "いまお使いのこの端末です。ご自身でログインしたのであれば問題ありません。"},
	{"story.meaning.mistyped", "If this wasn't you, someone probably mistyped their own address or number. Your account was not involved.", "ご自身でなければ、誰かがご自身のアドレスまたは番号を打ち間違えた可能性があります。あなたのアカウントには関係ありません。"},
	{"story.meaning.reset_requested", "If this wasn't you, someone typed your address on the reset page. Your password was not used, and nothing changes without the code.", "ご自身でなければ、誰かが再設定のページにあなたのアドレスを入力しました。パスワードは使われておらず、コードがなければ何も変わりません。"},
	{"story.meaning.code_signin", "If this wasn't you, someone is trying to sign in with a code sent to your mailbox.", "ご自身でなければ、誰かがメールに届くコードでログインしようとしています。"},
	{"story.meaning.you_just_now", "If this wasn't you, someone is using a device signed in to your account.", "ご自身でなければ、ログイン中の端末が他人に使われています。"},
	{"story.meaning.connected_app", "If this wasn't you, someone is using a device signed in to your account, through that application.", "ご自身でなければ、ログイン中の端末がそのアプリを通じて他人に使われています。"},
	{"story.state_danger", "Right now someone is one code away from your account: this code can still be used.", "いま、あと1つのコードであなたのアカウントに入れる状態です（このコードはまだ使えます）。"},
	{"story.state_open", "This code can still be used.", "このコードはまだ使えます。"},
	{"story.state_closed", "This code can no longer be used.", "このコードはもう使えません。"},
	{"story.details", "Details", "詳細"},
	{"story.device", "Device", "端末"},
	{"story.device_this", "%s on %s (this device)", "%s（%s）（この端末）"},
	{"story.device_detail", "%s on %s", "%s（%s）"},
	{"story.network", "Network", "ネットワーク"},
	{"story.network_detail", "IP address %s", "IPアドレス %s"},
	{"story.when", "When", "日時"},
	{"story.not_me_will", "Answering \"This wasn't me\" %s", "「心当たりがない」と回答すると、%s"},
	{"story.confirm_not_me", "Press again to confirm — this %s", "もう一度押して確定してください。%s"},

	// After sign-in: what is waiting for the holder's answer.
	{"waiting.title", "Please check: was this you?", "ご確認ください：ご本人の操作ですか？"},
	{"waiting.what.password_known", "Your correct password was typed on a device your account had not used, and that sign-in did not finish.", "このアカウントで使われたことのない端末で正しいパスワードが入力され、そのログインは完了していません。"},
	{"waiting.what.old_device", "A device that signed in to your account before typed your password again, and that sign-in did not finish.", "以前このアカウントにログインした端末で再びパスワードが入力され、そのログインは完了していません。"},
	{"waiting.what.reset_requested", "Someone asked for a code to reset your password, and it was not used.", "パスワード再設定のコードが申し込まれ、使われていません。"},
	{"waiting.what.code_signin", "Someone asked for a code to sign in to your account, and it was not used.", "ログインコードが申し込まれ、使われていません。"},
	{"waiting.from", "%s · %s on %s · IP address %s", "%s・%s（%s）・IPアドレス %s"},
	{"waiting.open", "Still open: someone may be one code away.", "まだ有効です：あと1つのコードで入られるおそれがあります。"},
	{"waiting.more", "See the whole story", "詳しく見る"},

	// The holder's own codes in the message center.
	{"messages.own.confirm_email", "The code you used to create your account (used).", "あなたがアカウントを作成したときの確認コード（使用済み）"},
	{"messages.own.change_email", "The code you used to change your email address (used).", "あなたがメールアドレスを変更したときの確認コード（使用済み）"},
	{"messages.own.add_phone", "The code you used to add your phone number (used).", "あなたが電話番号を登録したときの確認コード（使用済み）"},
	{"messages.own", "The code of your own request (used).", "あなたの手続きの確認コード（使用済み）"},

	// The activity page answers "was this me?".
	{"cause.own", "your own request", "ご自身の手続き"},
	{"cause.old_device_this", "this device, signed in before", "前にもお使いのこの端末"},
	{"activity.this_device", "this device", "この端末"},
	{"activity.new_device", "first time on this device", "初めての端末"},
	{"activity.network_detail", "IP address %s", "IPアドレス %s"},

	// The checkup's unfinished right password, answered where it is.
	{"security.do.password_entered_change", "Change password", "パスワードを変更"},

	// The error mapper's sentences without arguments (the page says the
	// error as it is, with nothing to fill in).
	{"error.code_cooldown_plain", "A code was sent moments ago. Wait a little before asking for another.", "少し前にコードを送信しました。少し待ってからもう一度お試しください。"},
	{"error.code_wrong_plain", "That code is not correct.", "コードが正しくありません。"},
	{"error.phone_invalid_plain", "This does not look like a valid mobile number.", "有効な携帯電話番号ではないようです。"},
	{"error.limited_plain", "Too many tries. To keep accounts safe, please wait a little before trying again.", "試行が多すぎます。アカウントを守るため、少し待ってからもう一度お試しください。"},
	{"error.backup_wrong", "That backup code is not right, or it was used already.", "バックアップコードが正しくないか、すでに使われています。"},

	// After "this wasn't me": what this account has and lacks.
	{"answer.advice.add_strong", "Then add an authenticator app or a passkey on the two-step page: a passkey cannot be phished, and an app's codes cannot be intercepted like SMS.", "その後、2段階認証のページで認証アプリかパスキーを追加してください。パスキーはフィッシングで盗まれず、認証アプリのコードはSMSのように傍受されません。"},
	{"answer.advice.drop_sms", "Your account also receives codes by SMS, which can be intercepted: you already have a stronger way, so removing SMS makes it safer.", "このアカウントはSMSでもコードを受け取ります。SMSは傍受されることがあります。より安全な方法をすでにお持ちなので、SMSを外すとより安全です。"},
	{"answer.advice.keep", "Your account already uses a strong second step; keep it.", "このアカウントはすでに安全な2段階目の方法を使っています。そのままお使いください。"},
	{"answer.advice.add_passkey", "For the strongest protection, add a passkey: it cannot be phished.", "さらに安全にするには、パスキーを追加してください。パスキーはフィッシングで盗まれません。"},
}
