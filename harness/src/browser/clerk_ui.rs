//! Where Clerk's prebuilt components (`@clerk/ui`) put their controls: the stable `cl-` class names Clerk
//! documents for styling (`appearance.elements`) and the form field names of `<SignIn/>` and `<SignUp/>`.
//! Defined once here; the browser steps use nothing else of Clerk's markup.

/// `<SignIn/>`'s first field: email address, username or phone.
pub const IDENTIFIER: &str = "input[name=identifier]";
/// The password field of `<SignIn/>` and `<SignUp/>`.
pub const PASSWORD: &str = "input[name=password]";
/// `<SignUp/>`'s email address field.
pub const EMAIL_ADDRESS: &str = "input[name=emailAddress]";
/// `<SignUp/>`'s first name field (shown when the instance enables it and the app shows optional fields).
pub const FIRST_NAME: &str = "input[name=firstName]";
/// The one-time code input (one field taking the whole code).
pub const CODE: &str = "input[autocomplete=one-time-code], input[name=code], .cl-otpCodeFieldInput";
/// Where `<SignIn/>` asks for the first factor (the password), under the sign-in page's path.
pub const FACTOR_ONE_PATH: &str = "/factor-one";
/// "Use another method" under a second-factor form (`<SignIn/>`'s factor-two step).
pub const USE_ANOTHER_METHOD: &str = ".cl-footerAction__alternativeMethods .cl-footerActionLink";
/// The backup-code choice among the second-factor methods: they are listed totp, phone_code, backup_code.
pub const BACKUP_CODE_METHOD: &str = ".cl-alternativeMethodsBlockButton:last-child";
/// The backup-code field of the second-factor step.
pub const BACKUP_CODE: &str = "input[name=code]";
/// "Continue" on every form.
pub const PRIMARY_BUTTON: &str = ".cl-formButtonPrimary";
/// A field's error text (a one-time code's too), as `<SignIn/>` shows Clerk's error objects.
pub const FIELD_ERROR: &str = ".cl-formFieldErrorText, .cl-otpCodeFieldErrorText, [id$=-error-feedback]";
/// An alert on the whole card (`card.setError`: e.g. a provider's error after an OAuth round trip).
pub const CARD_ERROR: &str = ".cl-alertText, .cl-alert";

/// The button of a social provider (`google`) on `<SignIn/>`/`<SignUp/>`: a block button with few providers, an
/// icon button with many.
pub fn social_button(provider: &str) -> String {
    format!(".cl-socialButtonsBlockButton__{provider}, .cl-socialButtonsIconButton__{provider}")
}

/// `<UserButton/>`'s avatar, which opens the user menu.
pub const USER_BUTTON: &str = ".cl-userButtonTrigger";
/// "Sign out" in the user menu.
pub const USER_MENU_SIGN_OUT: &str = ".cl-userButtonPopoverActionButton__signOut";
/// The signed-in session's id as clerk-js holds it (`""` when it holds none; a `null` would read as no value).
pub const SESSION_ID_JS: &str = "(window.Clerk && window.Clerk.session && window.Clerk.session.id) || ''";
