@client @client-sign-up @serial
Feature: Client sign-up
  The <SignUp/> component creates the account, verifies the email address with a code, and signs the new
  user in.

  @CL-101
  Scenario: Signing up with email verification through the app's sign-up page
    Given I have no account yet
    When I sign up through the sign-up page with my email and a password
    Then the browser shows my first name and email
